"""Stage 8 storage: the tables' schemas, their files and the SQL the comparison and the report share."""
