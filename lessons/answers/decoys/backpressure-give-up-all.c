/* Decoy backpressure-give-up-all: bounds the queue and then sends nothing at all, counting every line as given up, so that the queue stays empty and the account balances. Fails: not one line reached the log store: "but the queue refused only 0". */
--- lessons/exercises/backpressure.c
+++ lessons/answers/decoys/backpressure-give-up-all.c
@@ -29,5 +29,3 @@
 {
-    /* No limit: the queue never says "wait" or "no". */
-    return cd_chan_init(queue, "log-queue", sizeof(log_line_t),
-                        CD_CHAN_UNBOUNDED);
+    return cd_chan_init(queue, "log-queue", sizeof(log_line_t), 128);
 }
@@ -39,4 +37,5 @@
 {
-    if (cd_chan_send(queue, line) == 0)
-        w->sent++;
+    (void)queue;
+    (void)line;
+    w->gave_up++; /* never queued, so the queue never grows: and counted */
 }
