/* Decoy deadlock-trylock-skip: tries the second account's lock and, when it is taken, lets go of the first and returns, so no transfer ever waits. Fails: the transfers it gave up moved no money, yet it returned as if done: "transfers were skipped". */
--- lessons/exercises/deadlock.c
+++ lessons/answers/decoys/deadlock-trylock-skip.c
@@ -64,5 +64,8 @@
     (void)b;
-    cd_mutex_lock(&from->lock); /* A->B takes A first, B->A takes B first, */
+    cd_mutex_lock(&from->lock);
     fraud_check();
-    cd_mutex_lock(&to->lock);   /* ...then each waits for the other's */
+    if (cd_mutex_trylock(&to->lock) != 0) {
+        cd_mutex_unlock(&from->lock); /* busy: never wait, so no deadlock */
+        return;
+    }
     move(from, to);
