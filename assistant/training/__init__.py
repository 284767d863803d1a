"""Training mode for new operators: quizzes from the glossary (quiz), typed-answer
matching (answers), a Leitner schedule (schedule), progress in SQL (store), replies
(replies) and a trainer CLI (cli). No Rasa imports."""
