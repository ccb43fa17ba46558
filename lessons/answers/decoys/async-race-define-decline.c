/* Decoy async-race-define-decline: marks the order paid before the await, and redefines the harness's DECLINE_EVERY so that no card is declined and the early mark holds. Fails: the define reaches this file alone; the harness still declines, and the declined order stays unpaid: "never charged". */
--- lessons/exercises/async_race.c
+++ lessons/answers/decoys/async-race-define-decline.c
@@ -29,2 +29,5 @@
 
+/* No more declined cards: then marking the order first is enough. */
+#define DECLINE_EVERY 1000000
+
 /* The shop. Add the lock(s) your fix needs. */
@@ -70,7 +73,5 @@
     cd_point("check status");
-    if (o->status == PENDING) {          /* both checkouts see PENDING: */
-        if (gateway_charge(o)) {         /* this await runs the other */
-            cd_point("mark paid");
-            o->status = PAID;
-        }
+    if (o->status == PENDING) {
+        o->status = PAID;         /* claim it before the await */
+        gateway_charge(o);
     }
