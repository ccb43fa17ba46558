/* Decoy async-race-claim-skip: claims the order (pending -> charging) before the await, and puts it back to pending when the card is declined. Fails: the twin saw "charging" and left, so a declined order is never retried: "never charged". */
--- lessons/exercises/async_race.c
+++ lessons/answers/decoys/async-race-claim-skip.c
@@ -27,6 +27,8 @@
 #include "cd_thread.h"
 #include "harness/async_race.h"
 
+#define CHARGING (PAID + 1) /* claimed: a checkout is charging it */
+
 /* The shop. Add the lock(s) your fix needs. */
 struct shop {
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
@@ -68,10 +70,13 @@
 {
     (void)s;
     cd_point("check status");
-    if (o->status == PENDING) {          /* both checkouts see PENDING: */
-        if (gateway_charge(o)) {         /* this await runs the other */
+    if (o->status == PENDING) {
+        o->status = CHARGING;     /* claim it: the twin sees CHARGING */
+        if (gateway_charge(o)) {  /* and leaves it to this checkout */
             cd_point("mark paid");
             o->status = PAID;
+        } else {
+            o->status = PENDING;  /* declined: pending again */
         }
     }
 }
