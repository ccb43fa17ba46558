/* Decoy backpressure-throttle: each worker sleeps 0.15 ms per line so that it logs no faster than the store writes. Fails: tuned for one worker; with four the queue grows again: "your fix depends on timing". */
--- lessons/exercises/backpressure.c
+++ lessons/answers/decoys/backpressure-throttle.c
@@ -39,2 +39,3 @@
 {
+    cd_latency("throttle", 150); /* slow down to the store's pace */
     if (cd_chan_send(queue, line) == 0)
