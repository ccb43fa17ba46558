/* Decoy await-own-save: defines its own await_db_save(), one that returns at once, so that no await happens while the lock is held. Fails: the build refuses it, since the database's save is the harness's: "defines await_db_save, which is not part of the exercise". */
--- lessons/exercises/await.c
+++ lessons/answers/decoys/await-own-save.c
@@ -58,2 +58,7 @@
 
+/* The save, without its await: nothing to hold a lock across. */
+void await_db_save(void)
+{
+}
+
 /* One request (an async task): adds an item to the cart and saves it.
