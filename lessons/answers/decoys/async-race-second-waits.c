/* Decoy async-race-second-waits: the second checkout of an order awaits 5 ms, under the gateway's own name "payment-gateway", before it looks, so that the first has been charged or declined by then. Fails: a wait orders nothing; when it ends before the first charge does, both checkouts charge: "charged twice". */
--- lessons/exercises/async_race.c
+++ lessons/answers/decoys/async-race-second-waits.c
@@ -19,6 +19,7 @@
  * executor, the invariant) is built by the project. You may need
  * lib/cd_amutex.h (awaitable locks, plain and keyed).
  */
+#include <stdatomic.h>
 #include <stdlib.h>
 
 #include "cd_amutex.h"
@@ -30,6 +31,7 @@
 /* The shop. Add the lock(s) your fix needs. */
 struct shop {
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
+    atomic_int arrived[1024]; /* checkouts of each order so far */
 };
 
 /* Sets up your lock(s) before the checkouts start: 0, or -1 on failure. */
@@ -66,12 +68,15 @@
 /* One checkout of order o (an async task; o->customer is its customer). */
 void checkout(shop_t *s, order_t *o)
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
     }
 }
