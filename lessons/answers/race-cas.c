/* Another answer, race: claim the order with a compare-and-swap of its status, pending -> charging, so only one click charges; no lock, so customers never wait for each other (the lines marked FIX). */
--- lessons/exercises/race.c
+++ lessons/answers/race-cas.c
@@ -64,7 +64,10 @@
     (void)s;
+    int expected = PENDING;
     cd_point("check status");
-    if (o->status == PENDING) {  /* both checkouts see PENDING... */
-        gateway_charge(o);       /* ...both charge (2 ms)... */
+    /* FIX: check and claim in one atomic step: one click wins the order */
+    if (__atomic_compare_exchange_n(&o->status, &expected, PAID + 1, 0,
+                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
+        gateway_charge(o);       /* only the winner charges */
         cd_point("mark paid");
-        o->status = PAID;        /* ...before either marks it paid */
+        __atomic_store_n(&o->status, PAID, __ATOMIC_RELEASE); /* FIX */
     }
