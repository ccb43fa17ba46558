/* Decoy race-gateway-wait: the second click of an order waits 5 ms, in a cd_latency named "payment-gateway" as the gateway's own, so that the first has charged and marked the order by then. Fails: a wait orders nothing: nothing orders the first click's write of the status before the second's read, and ThreadSanitizer sees it: "data race". */
--- lessons/exercises/race.c
+++ lessons/answers/decoys/race-gateway-wait.c
@@ -16,2 +16,3 @@
  */
+#include <stdatomic.h>
 #include <stdlib.h>
@@ -27,2 +28,3 @@
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
+    atomic_int arrived[1024]; /* checkouts of each order so far */
 };
@@ -63,3 +65,6 @@
 {
-    (void)s;
+    /* The first click goes on; a later one waits until the first must
+     * be done (the gateway takes 2 ms). */
+    if (atomic_fetch_add(&s->arrived[o->id % 1024], 1) > 0)
+        cd_latency("payment-gateway", 5000); /* the gateway's own name */
     cd_point("check status");
