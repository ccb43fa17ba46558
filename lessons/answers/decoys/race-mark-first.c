/* Decoy race-mark-first: marks the order paid before the slow charge, shrinking the window to nanoseconds. Fails: the runs hold, but ThreadSanitizer sees the unordered read and write: "data race". */
--- lessons/exercises/race.c
+++ lessons/answers/decoys/race-mark-first.c
@@ -65,6 +65,5 @@
     cd_point("check status");
-    if (o->status == PENDING) {  /* both checkouts see PENDING... */
-        gateway_charge(o);       /* ...both charge (2 ms)... */
-        cd_point("mark paid");
-        o->status = PAID;        /* ...before either marks it paid */
+    if (o->status == PENDING) {
+        o->status = PAID;        /* claim it at once, then charge */
+        gateway_charge(o);
     }
