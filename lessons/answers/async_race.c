/* Answer key, async-race: an awaitable lock per customer, held from the check to the act (the lines marked FIX). */
--- lessons/exercises/async_race.c
+++ lessons/answers/async_race.c
@@ -32,2 +32,3 @@
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
+    cd_akeyed_t customer_lock; /* FIX: an awaitable lock per customer */
 };
@@ -37,4 +38,3 @@
 {
-    (void)s;
-    return 0;
+    return cd_akeyed_init(&s->customer_lock, "customer", s->ncustomers);
 }
@@ -44,3 +44,3 @@
 {
-    (void)s;
+    cd_akeyed_destroy(&s->customer_lock);
 }
@@ -68,6 +68,6 @@
 {
-    (void)s;
-    cd_point("check status");
-    if (o->status == PENDING) {          /* both checkouts see PENDING: */
-        if (gateway_charge(o)) {         /* this await runs the other */
+    cd_akeyed_lock(&s->customer_lock, o->customer);   /* FIX: the twin */
+    cd_point("check status");                         /* parks until */
+    if (o->status == PENDING) {
+        if (gateway_charge(o)) {
             cd_point("mark paid");
@@ -76,2 +76,3 @@
     }
+    cd_akeyed_unlock(&s->customer_lock, o->customer); /* FIX: this is done */
 }
