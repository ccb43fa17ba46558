/* Decoy async-race-blocking-lock: a blocking mutex per customer held across the gateway's await (lesson 05). Fails: the twin blocks the worker that must resume the holder: "blocks worker-1". */
--- lessons/exercises/async_race.c
+++ lessons/answers/decoys/async-race-blocking-lock.c
@@ -27,22 +27,30 @@
 #include "cd_thread.h"
 #include "harness/async_race.h"
 
+#include "cd_mutex.h" /* a blocking mutex */
+
 /* The shop. Add the lock(s) your fix needs. */
 struct shop {
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
+    cd_mutex_t *lock; /* one blocking lock per customer */
 };
 
 /* Sets up your lock(s) before the checkouts start: 0, or -1 on failure. */
 static int shop_locks_init(shop_t *s)
 {
-    (void)s;
-    return 0;
+    s->lock = calloc((size_t)s->ncustomers, sizeof *s->lock);
+    for (int c = 0; s->lock && c < s->ncustomers; c++)
+        if (cd_mutex_init(&s->lock[c], "customer") != 0)
+            return -1;
+    return s->lock ? 0 : -1;
 }
 
 /* Frees them after every checkout has ended. */
 static void shop_locks_destroy(shop_t *s)
 {
-    (void)s;
+    for (int c = 0; c < s->ncustomers; c++)
+        cd_mutex_destroy(&s->lock[c]);
+    free(s->lock);
 }
 
 shop_t *shop_create(int ncustomers)
@@ -66,12 +74,13 @@
 /* One checkout of order o (an async task; o->customer is its customer). */
 void checkout(shop_t *s, order_t *o)
 {
-    (void)s;
+    cd_mutex_lock(&s->lock[o->customer]);
     cd_point("check status");
-    if (o->status == PENDING) {          /* both checkouts see PENDING: */
-        if (gateway_charge(o)) {         /* this await runs the other */
+    if (o->status == PENDING) {
+        if (gateway_charge(o)) {
             cd_point("mark paid");
             o->status = PAID;
         }
     }
+    cd_mutex_unlock(&s->lock[o->customer]);
 }
