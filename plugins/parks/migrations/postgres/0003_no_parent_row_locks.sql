-- Booking requests no longer lock their park's and area's rows.
--
-- A foreign key makes every insert into bookings take a FOR KEY SHARE lock on the
-- parent rows until commit. When many groups ask for the same park at once (the
-- benchmark: 32 at a time), every insert joins a lock shared by the others, which
-- PostgreSQL records as a new multixact each time: the one park row became the
-- bottleneck of the request path (p99 73 ms with the keys, 52 ms without, same run).
--
-- What the keys guarded still holds: parks and areas are never deleted (there is no
-- route or event that deletes them), and the plugin inserts a booking only for an area
-- it has just read from the park's own area tree. A future "delete park" must deal
-- with its bookings explicitly. SQLite keeps its keys: it has one writer at a time and
-- no shared row locks.
ALTER TABLE bookings DROP CONSTRAINT IF EXISTS bookings_park_id_fkey;
ALTER TABLE bookings DROP CONSTRAINT IF EXISTS bookings_area_id_fkey;
