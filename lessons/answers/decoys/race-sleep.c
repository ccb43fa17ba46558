/* Decoy race-sleep: waits a random 0-3 ms (nanosleep) so the two clicks rarely meet. Fails: sleeping orders nothing; "your fix depends on timing". */
--- lessons/exercises/race.c
+++ lessons/answers/decoys/race-sleep.c
@@ -22,6 +22,8 @@
 #include "cd_thread.h"
 #include "harness/race.h"
 
+#include <time.h> /* nanosleep */
+
 /* The shop. Add the lock(s) your fix needs. */
 struct shop {
     int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
@@ -62,6 +64,14 @@
 void checkout(shop_t *s, order_t *o)
 {
     (void)s;
+    /* Let the other click go first: each checkout waits a little,
+     * a different while each time, before it looks at the order. */
+    static _Thread_local unsigned seed;
+    if (seed == 0)
+        seed = (unsigned)cd_self() * 7919u;
+    struct timespec pause = { 0, (long)(rand_r(&seed) % 3000) * 1000 };
+    nanosleep(&pause, NULL);
+
     cd_point("check status");
     if (o->status == PENDING) {  /* both checkouts see PENDING... */
         gateway_charge(o);       /* ...both charge (2 ms)... */
