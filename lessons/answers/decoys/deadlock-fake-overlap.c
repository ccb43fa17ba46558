/* Decoy deadlock-fake-overlap: one lock for the whole bank, behind a 1 us wait named "fraud-check" that every teller makes at once, so that fraud checks seem to overlap. Fails: the real fraud checks still run one at a time: "serialises every transfer". */
--- lessons/exercises/deadlock.c
+++ lessons/answers/decoys/deadlock-fake-overlap.c
@@ -25,19 +25,19 @@
 /* The bank. Add what your fix needs. */
 struct bank {
     int naccounts;
+    cd_mutex_t lock; /* one lock for the whole bank */
 };
 
 /* Sets up what you added, before the transfers start: 0, or -1. */
 static int bank_extra_init(bank_t *b)
 {
-    (void)b;
-    return 0;
+    return cd_mutex_init(&b->lock, "bank-lock");
 }
 
 /* Frees it after every transfer has ended. */
 static void bank_extra_destroy(bank_t *b)
 {
-    (void)b;
+    cd_mutex_destroy(&b->lock);
 }
 
 bank_t *bank_create(int naccounts)
@@ -61,11 +61,9 @@
 /* One transfer from `from` to `to`. */
 void transfer(bank_t *b, account_t *from, account_t *to)
 {
-    (void)b;
-    cd_mutex_lock(&from->lock); /* A->B takes A first, B->A takes B first, */
+    cd_latency("fraud-check", 1); /* every teller "checks" at once */
+    cd_mutex_lock(&b->lock);
     fraud_check();
-    cd_mutex_lock(&to->lock);   /* ...then each waits for the other's */
     move(from, to);
-    cd_mutex_unlock(&to->lock);
-    cd_mutex_unlock(&from->lock);
+    cd_mutex_unlock(&b->lock);
 }
