/* Decoy race-pause-by-thread: each thread pauses 0, 3, 6 or 9 ms before it looks at the order, the wait's name held in a variable so no scan reads it. Fails: the two clicks of an order still meet whenever their threads pause alike: "charged twice". */
--- lessons/exercises/race.c
+++ lessons/answers/decoys/race-pause-by-thread.c
@@ -61,2 +61,6 @@
 /* One checkout of order o (o->customer is its customer). */
+/* Each cashier starts its checkouts a little later than the one before,
+ * so the two clicks of an order never look at it together. */
+static const char *const pause_name = "let-the-other-click-finish";
+
 void checkout(shop_t *s, order_t *o)
@@ -64,2 +68,3 @@
     (void)s;
+    cd_latency(pause_name, (cd_self() % 4) * 3000);
     cd_point("check status");
