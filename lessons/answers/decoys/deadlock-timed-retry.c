/* Decoy deadlock-timed-retry: a timed lock on the second account, retried while still holding the first. Fails: neither lets go, so both retry forever: a "livelock". */
--- lessons/exercises/deadlock.c
+++ lessons/answers/decoys/deadlock-timed-retry.c
@@ -64,5 +64,6 @@
     (void)b;
-    cd_mutex_lock(&from->lock); /* A->B takes A first, B->A takes B first, */
+    cd_mutex_lock(&from->lock);
     fraud_check();
-    cd_mutex_lock(&to->lock);   /* ...then each waits for the other's */
+    while (cd_mutex_timedlock(&to->lock, 5) != 0)
+        ; /* not yet: try again */
     move(from, to);
