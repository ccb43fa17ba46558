/* Decoy await-define-away: #define await_db_save() ((void)0) in the learner's file, so that add_item() never awaits while it holds the lock. Fails: the carts are never saved to the database at all, which the database's own books show: "no save of the whole cart reached the database". */
--- lessons/exercises/await.c
+++ lessons/answers/decoys/await-define-away.c
@@ -26,2 +26,5 @@
 
+/* No await, no stall: the save becomes nothing in this file. */
+#define await_db_save() ((void)0)
+
 /* One user's session. Change the lock if your fix needs another kind. */
