/* Decoy race-lock-write: a customer's lock around the write of the status only. Fails: both checkouts still check before either writes: "holding no lock". */
--- lessons/exercises/race.c
+++ lessons/answers/decoys/race-lock-write.c
@@ -27,2 +27,3 @@
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
+    cd_keyed_t customer_lock;
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
@@ -63,3 +63,2 @@
 {
-    (void)s;
     cd_point("check status");
@@ -68,3 +67,5 @@
         cd_point("mark paid");
+        cd_keyed_lock(&s->customer_lock, o->customer);
         o->status = PAID;        /* ...before either marks it paid */
+        cd_keyed_unlock(&s->customer_lock, o->customer);
     }
