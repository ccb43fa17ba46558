/* Decoy race-recheck: looks at the status, waits 1 ms and looks again before it charges, so that an order the other click is paying for shows as paid by then. Fails: both clicks wait alike and both still see PENDING, on the controlled scheduler every time: "charged twice". */
--- lessons/exercises/race.c
+++ lessons/answers/decoys/race-recheck.c
@@ -60,2 +60,5 @@
 
+/* Named in a variable: a scan of the source cannot read it. */
+static const char *const second_look = "look-again";
+
 /* One checkout of order o (o->customer is its customer). */
@@ -65,6 +68,11 @@
     cd_point("check status");
-    if (o->status == PENDING) {  /* both checkouts see PENDING... */
-        gateway_charge(o);       /* ...both charge (2 ms)... */
-        cd_point("mark paid");
-        o->status = PAID;        /* ...before either marks it paid */
+    if (o->status == PENDING) {
+        /* A second look, a little later: if the other click was paying,
+         * the order is marked by now. */
+        cd_latency(second_look, 1000);
+        if (o->status == PENDING) {
+            gateway_charge(o);
+            cd_point("mark paid");
+            o->status = PAID;
+        }
     }
