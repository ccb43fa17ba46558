/* Decoy deadlock-stagger: each teller first waits 5 ms per account number, in a wait named "fraud-check" as the harness's own, so that opposite transfers never hold their first locks together. Fails: the locks are still taken in opposite orders, which the lock-order check sees on any schedule, and free runs still meet: "DEADLOCK". */
--- lessons/exercises/deadlock.c
+++ lessons/answers/decoys/deadlock-stagger.c
@@ -64,2 +64,5 @@
     (void)b;
+    /* Stagger the tellers by account, in a wait named as the fraud
+     * check's, so that opposite transfers never overlap. */
+    cd_latency("fraud-check", from->id * 5000);
     cd_mutex_lock(&from->lock); /* A->B takes A first, B->A takes B first, */
