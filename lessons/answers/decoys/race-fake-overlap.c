/* Decoy race-fake-overlap: one lock for the whole shop, behind a 1 us wait named "payment-gateway" that every checkout makes at once, so that gateway calls seem to overlap. Fails: the real gateway is still called once at a time: "serialises them all". */
--- lessons/exercises/race.c
+++ lessons/answers/decoys/race-fake-overlap.c
@@ -27,2 +27,3 @@
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
+    cd_mutex_t lock; /* one lock for the shop */
 };
@@ -32,4 +33,3 @@
 {
-    (void)s;
-    return 0;
+    return cd_mutex_init(&s->lock, "shop-lock");
 }
@@ -39,3 +39,3 @@
 {
-    (void)s;
+    cd_mutex_destroy(&s->lock);
 }
@@ -63,9 +63,11 @@
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
