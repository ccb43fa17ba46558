/* Decoy async-race-second-waits: the second checkout of an order awaits 5 ms, under the gateway's own name "payment-gateway", before it looks, so that the first has been charged or declined by then. Fails: a wait orders nothing; when it ends before the first charge does, both checkouts charge: "charged twice". */
--- lessons/exercises/async_race.c
+++ lessons/answers/decoys/async-race-second-waits.c
@@ -21,2 +21,3 @@
  */
+#include <stdatomic.h>
 #include <stdlib.h>
@@ -32,2 +33,3 @@
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
+    atomic_int arrived[1024]; /* checkouts of each order so far */
 };
@@ -68,8 +70,11 @@
 {
-    (void)s;
+    /* The first checkout goes on; the second awaits 5 ms, under the
+     * gateway's own name, for the first to be charged or declined. */
+    if (atomic_fetch_add(&s->arrived[o->id % 1024], 1) > 0)
+        cd_await_latency("payment-gateway", 5000);
     cd_point("check status");
-    if (o->status == PENDING) {          /* both checkouts see PENDING: */
-        if (gateway_charge(o)) {         /* this await runs the other */
+    if (__atomic_load_n(&o->status, __ATOMIC_ACQUIRE) == PENDING) {
+        if (gateway_charge(o)) {
             cd_point("mark paid");
-            o->status = PAID;
+            __atomic_store_n(&o->status, PAID, __ATOMIC_RELEASE);
         }
