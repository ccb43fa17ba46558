/* Decoy async-race-fake-overlap: one awaitable lock for the whole shop, behind a 1 us await named "payment-gateway" that every checkout makes at once, so that gateway calls seem to overlap. Fails: the real gateway is still called once at a time: "serialises them all". */
--- lessons/exercises/async_race.c
+++ lessons/answers/decoys/async-race-fake-overlap.c
@@ -30,19 +30,19 @@
 /* The shop. Add the lock(s) your fix needs. */
 struct shop {
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
+    cd_amutex_t lock; /* one awaitable lock for the shop */
 };
 
 /* Sets up your lock(s) before the checkouts start: 0, or -1 on failure. */
 static int shop_locks_init(shop_t *s)
 {
-    (void)s;
-    return 0;
+    return cd_amutex_init(&s->lock, "shop-lock");
 }
 
 /* Frees them after every checkout has ended. */
 static void shop_locks_destroy(shop_t *s)
 {
-    (void)s;
+    cd_amutex_destroy(&s->lock);
 }
 
 shop_t *shop_create(int ncustomers)
@@ -66,12 +66,14 @@
 /* One checkout of order o (an async task; o->customer is its customer). */
 void checkout(shop_t *s, order_t *o)
 {
-    (void)s;
+    cd_await_latency("payment-gateway", 1); /* every checkout "calls" */
+    cd_amutex_lock(&s->lock);
     cd_point("check status");
-    if (o->status == PENDING) {          /* both checkouts see PENDING: */
-        if (gateway_charge(o)) {         /* this await runs the other */
+    if (o->status == PENDING) {
+        if (gateway_charge(o)) {
             cd_point("mark paid");
             o->status = PAID;
         }
     }
+    cd_amutex_unlock(&s->lock);
 }
