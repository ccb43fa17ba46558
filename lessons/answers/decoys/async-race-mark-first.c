/* Decoy async-race-mark-first: marks the order paid before the await, so the twin sees PAID at once. Fails: a declined card leaves the order marked paid but unpaid: "never charged". */
--- lessons/exercises/async_race.c
+++ lessons/answers/decoys/async-race-mark-first.c
@@ -70,7 +70,5 @@
     cd_point("check status");
-    if (o->status == PENDING) {          /* both checkouts see PENDING: */
-        if (gateway_charge(o)) {         /* this await runs the other */
-            cd_point("mark paid");
-            o->status = PAID;
-        }
+    if (o->status == PENDING) {
+        o->status = PAID;        /* claim it before the await */
+        gateway_charge(o);
     }
