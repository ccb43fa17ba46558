/* Decoy async-race-blocking-lock: a blocking mutex per customer held across the gateway's await (lesson 05). Fails: the twin blocks the worker that must resume the holder: "blocks worker-1". */
--- lessons/exercises/async_race.c
+++ lessons/answers/decoys/async-race-blocking-lock.c
@@ -29,2 +29,4 @@
 
+#include "cd_mutex.h" /* a blocking mutex */
+
 /* The shop. Add the lock(s) your fix needs. */
@@ -32,2 +34,3 @@
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
+    cd_mutex_t *lock; /* one blocking lock per customer */
 };
@@ -37,4 +40,7 @@
 {
-    (void)s;
-    return 0;
+    s->lock = calloc((size_t)s->ncustomers, sizeof *s->lock);
+    for (int c = 0; s->lock && c < s->ncustomers; c++)
+        if (cd_mutex_init(&s->lock[c], "customer") != 0)
+            return -1;
+    return s->lock ? 0 : -1;
 }
@@ -44,3 +50,5 @@
 {
-    (void)s;
+    for (int c = 0; c < s->ncustomers; c++)
+        cd_mutex_destroy(&s->lock[c]);
+    free(s->lock);
 }
@@ -68,6 +76,6 @@
 {
-    (void)s;
+    cd_mutex_lock(&s->lock[o->customer]);
     cd_point("check status");
-    if (o->status == PENDING) {          /* both checkouts see PENDING: */
-        if (gateway_charge(o)) {         /* this await runs the other */
+    if (o->status == PENDING) {
+        if (gateway_charge(o)) {
             cd_point("mark paid");
@@ -76,2 +84,3 @@
     }
+    cd_mutex_unlock(&s->lock[o->customer]);
 }
