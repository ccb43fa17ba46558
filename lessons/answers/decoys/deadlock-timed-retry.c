/* Decoy deadlock-timed-retry: a timed lock on the second account, retried while still holding the first. Fails: neither lets go, so both retry forever: a "livelock". */
--- lessons/exercises/deadlock.c
+++ lessons/answers/decoys/deadlock-timed-retry.c
@@ -62,9 +62,10 @@
 void transfer(bank_t *b, account_t *from, account_t *to)
 {
     (void)b;
-    cd_mutex_lock(&from->lock); /* A->B takes A first, B->A takes B first, */
+    cd_mutex_lock(&from->lock);
     fraud_check();
-    cd_mutex_lock(&to->lock);   /* ...then each waits for the other's */
+    while (cd_mutex_timedlock(&to->lock, 5) != 0)
+        ; /* not yet: try again */
     move(from, to);
     cd_mutex_unlock(&to->lock);
     cd_mutex_unlock(&from->lock);
