/* Decoy deadlock-own-fraud-check: defines its own fraud_check(), one that takes no time, to close the window between the two locks. Fails: the build refuses it, since the fraud check is the harness's: "defines fraud_check, which is not part of the exercise". */
--- lessons/exercises/deadlock.c
+++ lessons/answers/decoys/deadlock-own-fraud-check.c
@@ -58,6 +58,11 @@
     free(b);
 }
 
+/* The fraud check, without its 2 ms: with no window, no deadlock. */
+void fraud_check(void)
+{
+}
+
 /* One transfer from `from` to `to`. */
 void transfer(bank_t *b, account_t *from, account_t *to)
 {
