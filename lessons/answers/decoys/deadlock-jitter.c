/* Decoy deadlock-jitter: waits a random while before locking, so the two transfers rarely start together. Fails: the locks are still taken in opposite orders: "your fix depends on timing". */
--- lessons/exercises/deadlock.c
+++ lessons/answers/decoys/deadlock-jitter.c
@@ -63,3 +63,7 @@
 {
+    static _Thread_local unsigned seed;
     (void)b;
+    if (seed == 0)
+        seed = (unsigned)(from->id * 7919 + to->id + 1);
+    cd_latency("jitter", rand_r(&seed) % 3000); /* don't start together */
     cd_mutex_lock(&from->lock); /* A->B takes A first, B->A takes B first, */
