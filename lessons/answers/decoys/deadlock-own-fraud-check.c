/* Decoy deadlock-own-fraud-check: defines its own fraud_check(), one that takes no time, to close the window between the two locks. Fails: the build refuses it, since the fraud check is the harness's: "defines fraud_check, which is not part of the exercise". */
--- lessons/exercises/deadlock.c
+++ lessons/answers/decoys/deadlock-own-fraud-check.c
@@ -60,2 +60,7 @@
 
+/* The fraud check, without its 2 ms: with no window, no deadlock. */
+void fraud_check(void)
+{
+}
+
 /* One transfer from `from` to `to`. */
