/* Decoy race-trylock-skip: a checkout that finds its customer's lock taken returns at once, taking it for the other click of the same order. Fails: the lock may be held for another order of that customer, which then is never charged: "unpaid". */
--- lessons/exercises/race.c
+++ lessons/answers/decoys/race-trylock-skip.c
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
@@ -63,9 +63,12 @@
 {
-    (void)s;
+    cd_mutex_t *m = cd_keyed_mutex(&s->customer_lock, (unsigned long)o->customer);
+    if (cd_mutex_trylock(m) != 0)
+        return; /* busy: the other click is paying for it */
     cd_point("check status");
-    if (o->status == PENDING) {  /* both checkouts see PENDING... */
-        gateway_charge(o);       /* ...both charge (2 ms)... */
+    if (o->status == PENDING) {
+        gateway_charge(o);
         cd_point("mark paid");
-        o->status = PAID;        /* ...before either marks it paid */
+        o->status = PAID;
     }
+    cd_mutex_unlock(m);
 }
