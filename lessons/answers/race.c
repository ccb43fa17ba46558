/* Answer key, race: a lock per customer, held from the check to the act (the lines marked FIX). */
--- lessons/exercises/race.c
+++ lessons/answers/race.c
@@ -27,2 +27,3 @@
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
+    cd_keyed_t customer_lock; /* FIX: one lock per customer */
 };
@@ -32,4 +33,3 @@
 {
-    (void)s;
-    return 0;
+    return cd_keyed_init(&s->customer_lock, "customer", s->ncustomers);
 }
@@ -39,3 +39,3 @@
 {
-    (void)s;
+    cd_keyed_destroy(&s->customer_lock);
 }
@@ -63,9 +63,10 @@
 {
-    (void)s;
+    cd_keyed_lock(&s->customer_lock, o->customer);   /* FIX: the check... */
     cd_point("check status");
-    if (o->status == PENDING) {  /* both checkouts see PENDING... */
-        gateway_charge(o);       /* ...both charge (2 ms)... */
+    if (o->status == PENDING) {
+        gateway_charge(o);
         cd_point("mark paid");
-        o->status = PAID;        /* ...before either marks it paid */
+        o->status = PAID;
     }
+    cd_keyed_unlock(&s->customer_lock, o->customer); /* FIX: ...and the act */
 }
