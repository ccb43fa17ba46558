/* Decoy async-race-claim-skip: claims the order (pending -> charging) before the await, and puts it back to pending when the card is declined. Fails: the twin saw "charging" and left, so a declined order is never retried: "never charged". */
--- lessons/exercises/async_race.c
+++ lessons/answers/decoys/async-race-claim-skip.c
@@ -29,2 +29,4 @@
 
+#define CHARGING (PAID + 1) /* claimed: a checkout is charging it */
+
 /* The shop. Add the lock(s) your fix needs. */
@@ -70,6 +72,9 @@
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
