/* Answer key, async-race: an awaitable lock per customer, held from the check to the act (the lines marked FIX). */
--- lessons/exercises/async_race.c
+++ lessons/answers/async_race.c
@@ -30,19 +30,19 @@
 /* The shop. Add the lock(s) your fix needs. */
 struct shop {
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
+    cd_akeyed_t customer_lock; /* FIX: an awaitable lock per customer */
 };
 
 /* Sets up your lock(s) before the checkouts start: 0, or -1 on failure. */
 static int shop_locks_init(shop_t *s)
 {
-    (void)s;
-    return 0;
+    return cd_akeyed_init(&s->customer_lock, "customer", s->ncustomers);
 }
 
 /* Frees them after every checkout has ended. */
 static void shop_locks_destroy(shop_t *s)
 {
-    (void)s;
+    cd_akeyed_destroy(&s->customer_lock);
 }
 
 shop_t *shop_create(int ncustomers)
@@ -66,12 +66,13 @@
 /* One checkout of order o (an async task; o->customer is its customer). */
 void checkout(shop_t *s, order_t *o)
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
             o->status = PAID;
         }
     }
+    cd_akeyed_unlock(&s->customer_lock, o->customer); /* FIX: this is done */
 }
