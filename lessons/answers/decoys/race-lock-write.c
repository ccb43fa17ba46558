/* Decoy race-lock-write: a customer's lock around the write of the status only. Fails: both checkouts still check before either writes: "holding no lock". */
--- lessons/exercises/race.c
+++ lessons/answers/decoys/race-lock-write.c
@@ -25,19 +25,19 @@
 /* The shop. Add the lock(s) your fix needs. */
 struct shop {
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
+    cd_keyed_t customer_lock;
 };
 
 /* Sets up your lock(s) before the checkouts start: 0, or -1 on failure. */
 static int shop_locks_init(shop_t *s)
 {
-    (void)s;
-    return 0;
+    return cd_keyed_init(&s->customer_lock, "customer", s->ncustomers);
 }
 
 /* Frees them after every checkout has ended. */
 static void shop_locks_destroy(shop_t *s)
 {
-    (void)s;
+    cd_keyed_destroy(&s->customer_lock);
 }
 
 shop_t *shop_create(int ncustomers)
@@ -61,11 +61,12 @@
 /* One checkout of order o (o->customer is its customer). */
 void checkout(shop_t *s, order_t *o)
 {
-    (void)s;
     cd_point("check status");
     if (o->status == PENDING) {  /* both checkouts see PENDING... */
         gateway_charge(o);       /* ...both charge (2 ms)... */
         cd_point("mark paid");
+        cd_keyed_lock(&s->customer_lock, o->customer);
         o->status = PAID;        /* ...before either marks it paid */
+        cd_keyed_unlock(&s->customer_lock, o->customer);
     }
 }
