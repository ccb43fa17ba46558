/* Decoy race-gateway-wait: the second click of an order waits 5 ms, in a cd_latency named "payment-gateway" as the gateway's own, so that the first has charged and marked the order by then. Fails: a wait orders nothing: nothing orders the first click's write of the status before the second's read, and ThreadSanitizer sees it: "data race". */
--- lessons/exercises/race.c
+++ lessons/answers/decoys/race-gateway-wait.c
@@ -14,6 +14,7 @@
  * invariant) is built by the project. You may need lib/cd_keyed.h (one
  * lock per key) and lib/cd_mutex.h.
  */
+#include <stdatomic.h>
 #include <stdlib.h>
 
 #include "cd_keyed.h"
@@ -25,6 +26,7 @@
 /* The shop. Add the lock(s) your fix needs. */
 struct shop {
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
+    atomic_int arrived[1024]; /* checkouts of each order so far */
 };
 
 /* Sets up your lock(s) before the checkouts start: 0, or -1 on failure. */
@@ -61,7 +63,10 @@
 /* One checkout of order o (o->customer is its customer). */
 void checkout(shop_t *s, order_t *o)
 {
-    (void)s;
+    /* The first click goes on; a later one waits until the first must
+     * be done (the gateway takes 2 ms). */
+    if (atomic_fetch_add(&s->arrived[o->id % 1024], 1) > 0)
+        cd_latency("payment-gateway", 5000); /* the gateway's own name */
     cd_point("check status");
     if (o->status == PENDING) {  /* both checkouts see PENDING... */
         gateway_charge(o);       /* ...both charge (2 ms)... */
