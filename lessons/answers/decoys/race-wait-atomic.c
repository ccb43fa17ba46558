/* Decoy race-wait-atomic: the second click of an order waits 5 ms (a wait whose name is held in a variable) for the first to charge and mark it, and reads and writes the status atomically so that ThreadSanitizer has nothing to report. Fails: under exploration a wait may end at any point, so the two clicks still both see PENDING: "charged twice". */
--- lessons/exercises/race.c
+++ lessons/answers/decoys/race-wait-atomic.c
@@ -16,2 +16,3 @@
  */
+#include <stdatomic.h>
 #include <stdlib.h>
@@ -27,2 +28,3 @@
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
+    atomic_int arrived[1024]; /* checkouts of each order so far */
 };
@@ -60,2 +62,5 @@
 
+/* Named in a variable: a scan of the source cannot read it. */
+static const char *const wait_name = "let-the-first-click-finish";
+
 /* One checkout of order o (o->customer is its customer). */
@@ -63,8 +68,12 @@
 {
-    (void)s;
+    /* The first click goes on; a later one waits until the first must
+     * be done (the gateway takes 2 ms). Atomic reads and writes of the
+     * status, so that no data race is left to report. */
+    if (atomic_fetch_add(&s->arrived[o->id % 1024], 1) > 0)
+        cd_latency(wait_name, 5000);
     cd_point("check status");
-    if (o->status == PENDING) {  /* both checkouts see PENDING... */
-        gateway_charge(o);       /* ...both charge (2 ms)... */
+    if (__atomic_load_n(&o->status, __ATOMIC_ACQUIRE) == PENDING) {
+        gateway_charge(o);
         cd_point("mark paid");
-        o->status = PAID;        /* ...before either marks it paid */
+        __atomic_store_n(&o->status, PAID, __ATOMIC_RELEASE);
     }
