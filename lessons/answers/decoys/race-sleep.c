/* Decoy race-sleep: waits a random 0-3 ms (nanosleep) so the two clicks rarely meet. Fails: sleeping orders nothing; "your fix depends on timing". */
--- lessons/exercises/race.c
+++ lessons/answers/decoys/race-sleep.c
@@ -51,6 +51,8 @@
 
 /* =============================== your code =============================== */
 
+#include <time.h> /* nanosleep */
+
 /* The shop. Add the lock(s) your fix needs. */
 typedef struct shop {
     bank_t bank;
@@ -73,6 +75,14 @@
 /* One checkout of order o (o->customer is its customer). */
 static void checkout(shop_t *s, order_t *o)
 {
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
         gateway_charge(&s->bank, o); /* ...both charge (2 ms)... */
