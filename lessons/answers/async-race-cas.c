/* Another answer, async-race: claim the order with a compare-and-swap of its status, pending -> charging, so only one checkout charges, and that one retries a declined card itself; no lock, so no await waits for another customer (the lines marked FIX). */
--- lessons/exercises/async_race.c
+++ lessons/answers/async-race-cas.c
@@ -29,2 +29,4 @@
 
+#define CHARGING (PAID + 1) /* claimed: a checkout is charging it */
+
 /* The shop. Add the lock(s) your fix needs. */
@@ -68,9 +70,12 @@
 {
+    int expected = PENDING;
     (void)s;
     cd_point("check status");
-    if (o->status == PENDING) {          /* both checkouts see PENDING: */
-        if (gateway_charge(o)) {         /* this await runs the other */
-            cd_point("mark paid");
-            o->status = PAID;
-        }
+    /* FIX: check and claim in one atomic step: one checkout wins */
+    if (__atomic_compare_exchange_n(&o->status, &expected, CHARGING, 0,
+                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
+        while (!gateway_charge(o)) /* FIX: the twin has left: a declined */
+            ;                      /* card is retried by the winner */
+        cd_point("mark paid");
+        __atomic_store_n(&o->status, PAID, __ATOMIC_RELEASE);
     }
