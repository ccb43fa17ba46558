/* Decoy async-race-shop-lock: one awaitable lock for the whole shop. Fails: correct, but one gateway call at a time: "serialises them all". */
--- lessons/exercises/async_race.c
+++ lessons/answers/decoys/async-race-shop-lock.c
@@ -32,2 +32,3 @@
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
+    cd_amutex_t lock; /* one lock for the shop */
 };
@@ -37,4 +38,3 @@
 {
-    (void)s;
-    return 0;
+    return cd_amutex_init(&s->lock, "shop-lock");
 }
@@ -44,3 +44,3 @@
 {
-    (void)s;
+    cd_amutex_destroy(&s->lock);
 }
@@ -68,6 +68,6 @@
 {
-    (void)s;
+    cd_amutex_lock(&s->lock);
     cd_point("check status");
-    if (o->status == PENDING) {          /* both checkouts see PENDING: */
-        if (gateway_charge(o)) {         /* this await runs the other */
+    if (o->status == PENDING) {
+        if (gateway_charge(o)) {
             cd_point("mark paid");
@@ -76,2 +76,3 @@
     }
+    cd_amutex_unlock(&s->lock);
 }
