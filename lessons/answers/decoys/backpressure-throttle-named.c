/* Decoy backpressure-throttle-named: the throttle of backpressure-throttle (0.15 ms a line), in a wait named "request" like the harness's own, so that no scan flags it. Fails: the queue is still unbounded; with four workers it grows past its budget: "past the 1024 KiB budget". */
--- lessons/exercises/backpressure.c
+++ lessons/answers/decoys/backpressure-throttle-named.c
@@ -39,2 +39,5 @@
 {
+    /* Keep to the store's pace: a pause named like the harness's own
+     * request time, 0.15 ms a line. */
+    cd_latency("request", 150);
     if (cd_chan_send(queue, line) == 0)
