/* Decoy deadlock-timed-skip: waits at most 5 ms for the second account and, on a timeout, lets go and gives the transfer up without a word. Fails: a timeout must lead to a retry; this one moved no money and returned as if done: "transfers were skipped". */
--- lessons/exercises/deadlock.c
+++ lessons/answers/decoys/deadlock-timed-skip.c
@@ -64,5 +64,8 @@
     (void)b;
-    cd_mutex_lock(&from->lock); /* A->B takes A first, B->A takes B first, */
+    cd_mutex_lock(&from->lock);
     fraud_check();
-    cd_mutex_lock(&to->lock);   /* ...then each waits for the other's */
+    if (cd_mutex_timedlock(&to->lock, 5) != 0) {
+        cd_mutex_unlock(&from->lock); /* 5 ms is long enough: give up */
+        return;
+    }
     move(from, to);
