/* Another answer, deadlock: a timed lock on the second account; on a timeout, let go of the first, back off a random while and try again (the lines marked FIX). */
--- lessons/exercises/deadlock.c
+++ lessons/answers/deadlock-timeout.c
@@ -63,6 +63,12 @@
 {
+    unsigned seed = (unsigned)(from->id * 7919 + to->id);
     (void)b;
-    cd_mutex_lock(&from->lock); /* A->B takes A first, B->A takes B first, */
-    fraud_check();
-    cd_mutex_lock(&to->lock);   /* ...then each waits for the other's */
+    for (;;) {
+        cd_mutex_lock(&from->lock);
+        fraud_check();
+        if (cd_mutex_timedlock(&to->lock, 5) == 0) /* FIX: a bounded wait */
+            break;
+        cd_mutex_unlock(&from->lock);              /* FIX: let go, */
+        cd_latency("back-off", 500 + rand_r(&seed) % 5000); /* FIX: retry */
+    }
     move(from, to);
