/* Decoy race-sleep: waits a random 0-3 ms (nanosleep) so the two clicks rarely meet. Fails: sleeping orders nothing; "your fix depends on timing". */
--- lessons/exercises/race.c
+++ lessons/answers/decoys/race-sleep.c
@@ -24,2 +24,4 @@
 
+#include <time.h> /* nanosleep */
+
 /* The shop. Add the lock(s) your fix needs. */
@@ -64,2 +66,10 @@
     (void)s;
+    /* Let the other click go first: each checkout waits a little,
+     * a different while each time, before it looks at the order. */
+    static _Thread_local unsigned seed;
+    if (seed == 0)
+        seed = (unsigned)cd_self() * 7919u;
+    struct timespec pause = { 0, (long)(rand_r(&seed) % 3000) * 1000 };
+    nanosleep(&pause, NULL);
+
     cd_point("check status");
