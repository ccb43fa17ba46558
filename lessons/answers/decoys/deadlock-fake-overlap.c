/* Decoy deadlock-fake-overlap: one lock for the whole bank, behind a 1 us wait named "fraud-check" that every teller makes at once, so that fraud checks seem to overlap. Fails: the real fraud checks still run one at a time: "serialises every transfer". */
--- lessons/exercises/deadlock.c
+++ lessons/answers/decoys/deadlock-fake-overlap.c
@@ -27,2 +27,3 @@
     int naccounts;
+    cd_mutex_t lock; /* one lock for the whole bank */
 };
@@ -32,4 +33,3 @@
 {
-    (void)b;
-    return 0;
+    return cd_mutex_init(&b->lock, "bank-lock");
 }
@@ -39,3 +39,3 @@
 {
-    (void)b;
+    cd_mutex_destroy(&b->lock);
 }
@@ -63,9 +63,7 @@
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
