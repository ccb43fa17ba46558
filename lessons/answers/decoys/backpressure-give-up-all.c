/* Decoy backpressure-give-up-all: bounds the queue and then sends nothing at all, counting every line as given up, so that the queue stays empty and the account balances. Fails: not one line reached the log store: "but the queue refused only 0". */
--- lessons/exercises/backpressure.c
+++ lessons/answers/decoys/backpressure-give-up-all.c
@@ -27,9 +27,7 @@
  * the workers start: 0, or a negative errno. */
 int queue_init(cd_chan_t *queue)
 {
-    /* No limit: the queue never says "wait" or "no". */
-    return cd_chan_init(queue, "log-queue", sizeof(log_line_t),
-                        CD_CHAN_UNBOUNDED);
+    return cd_chan_init(queue, "log-queue", sizeof(log_line_t), 128);
 }
 
 /* A web worker logs one line. Count it in w->sent when it went into the
@@ -37,6 +35,7 @@
  * a drop the channel counts (cd_chan_try_send with CD_CHAN_SHED). */
 void log_line(cd_chan_t *queue, worker_t *w, const log_line_t *line)
 {
-    if (cd_chan_send(queue, line) == 0)
-        w->sent++;
+    (void)queue;
+    (void)line;
+    w->gave_up++; /* never queued, so the queue never grows: and counted */
 }
