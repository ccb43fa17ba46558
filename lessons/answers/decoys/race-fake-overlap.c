/* Decoy race-fake-overlap: one lock for the whole shop, behind a 1 us wait named "payment-gateway" that every checkout makes at once, so that gateway calls seem to overlap. Fails: the real gateway is still called once at a time: "serialises them all". */
--- lessons/exercises/race.c
+++ lessons/answers/decoys/race-fake-overlap.c
@@ -25,19 +25,19 @@
 /* The shop. Add the lock(s) your fix needs. */
 struct shop {
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
+    cd_mutex_t lock; /* one lock for the shop */
 };
 
 /* Sets up your lock(s) before the checkouts start: 0, or -1 on failure. */
 static int shop_locks_init(shop_t *s)
 {
-    (void)s;
-    return 0;
+    return cd_mutex_init(&s->lock, "shop-lock");
 }
 
 /* Frees them after every checkout has ended. */
 static void shop_locks_destroy(shop_t *s)
 {
-    (void)s;
+    cd_mutex_destroy(&s->lock);
 }
 
 shop_t *shop_create(int ncustomers)
@@ -61,11 +61,13 @@
 /* One checkout of order o (o->customer is its customer). */
 void checkout(shop_t *s, order_t *o)
 {
-    (void)s;
+    cd_latency("payment-gateway", 1); /* every checkout "calls" at once */
+    cd_mutex_lock(&s->lock);
     cd_point("check status");
-    if (o->status == PENDING) {  /* both checkouts see PENDING... */
-        gateway_charge(o);       /* ...both charge (2 ms)... */
+    if (o->status == PENDING) {
+        gateway_charge(o);
         cd_point("mark paid");
-        o->status = PAID;        /* ...before either marks it paid */
+        o->status = PAID;
     }
+    cd_mutex_unlock(&s->lock);
 }
