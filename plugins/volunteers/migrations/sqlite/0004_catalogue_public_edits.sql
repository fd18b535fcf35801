-- Issue 21: what the public pages, "my volunteering" and the fixes need.
--
-- A skill may imply a background check (working with children): an opportunity that
-- requires it needs a cleared check, whatever its organiser ticked.
ALTER TABLE skills ADD COLUMN needs_check INTEGER NOT NULL DEFAULT 0;

-- "Welcomes newcomers": no experience needed, set by the organiser; a public filter.
ALTER TABLE opportunities ADD COLUMN newcomers INTEGER NOT NULL DEFAULT 0;
-- The parks booking a draft was made from, so the draft is cancelled with the booking.
-- Drafts made before this migration carry the booking ID in their description only.
ALTER TABLE opportunities ADD COLUMN park_booking_id TEXT NOT NULL DEFAULT '';
UPDATE opportunities SET park_booking_id = substr(description, 36, 36)
    WHERE source_event_id IS NOT NULL AND description LIKE 'Created from approved park booking %';
CREATE INDEX opportunities_park_booking ON opportunities (park_booking_id) WHERE park_booking_id <> '';
-- Park bookings cancelled or rejected: an approval delivered after the cancellation
-- (at-least-once delivery keeps no order across event types) drafts nothing.
CREATE TABLE ended_park_bookings (
    booking_id TEXT PRIMARY KEY,
    ended_at   BIGINT NOT NULL
);
-- The public list filters published opportunities by neighbourhood and pages by ID.
CREATE INDEX opportunities_public ON opportunities (state, neighbourhood_id, id);
-- ... and by a skill asked for (required or preferred): the JSON lists, one row a skill,
-- so a rare skill is found through an index rather than by reading every list.
CREATE TABLE opportunity_skills (
    opportunity_id TEXT NOT NULL REFERENCES opportunities (id) ON DELETE CASCADE,
    skill_id       TEXT NOT NULL,
    PRIMARY KEY (skill_id, opportunity_id)
);
INSERT INTO opportunity_skills (opportunity_id, skill_id)
    SELECT o.id, j.value FROM opportunities o, json_each(o.required_skills) AS j
    UNION SELECT o.id, j.value FROM opportunities o, json_each(o.preferred_skills) AS j;

-- The secret in a volunteer's calendar feed address: calendar apps cannot sign in.
ALTER TABLE profiles ADD COLUMN calendar_token TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX profiles_calendar_token ON profiles (calendar_token) WHERE calendar_token <> '';

-- A default catalogue of common civic-volunteering skills in the five languages, so a
-- new city can use the plugin at once; city staff rename or add skills (PUT
-- /skills/{id}). A skill the city already has keeps its names.
INSERT INTO skills (id, names, needs_check, updated_at) VALUES
('first_aid', '{"en":"First aid","fi":"Ensiapu","sv":"Första hjälpen","da":"Førstehjælp","tr":"İlk yardım"}', 0, 0),
('driving_licence', '{"en":"Driving licence (car)","fi":"Ajokortti (henkilöauto)","sv":"Körkort (personbil)","da":"Kørekort (bil)","tr":"Ehliyet (otomobil)"}', 0, 0),
('interpreting', '{"en":"Interpreting and translation","fi":"Tulkkaus ja kääntäminen","sv":"Tolkning och översättning","da":"Tolkning og oversættelse","tr":"Tercümanlık ve çeviri"}', 0, 0),
('working_with_children', '{"en":"Working with children","fi":"Lasten kanssa toimiminen","sv":"Arbete med barn","da":"Arbejde med børn","tr":"Çocuklarla çalışma"}', 1, 0),
('working_with_older_people', '{"en":"Working with older people","fi":"Ikäihmisten kanssa toimiminen","sv":"Arbete med äldre","da":"Arbejde med ældre","tr":"Yaşlılarla çalışma"}', 0, 0),
('event_setup', '{"en":"Event set-up and clear-up","fi":"Tapahtumien rakentaminen ja purku","sv":"Bygga upp och riva evenemang","da":"Opsætning og oprydning ved arrangementer","tr":"Etkinlik kurulumu ve toplanması"}', 0, 0),
('cooking', '{"en":"Cooking","fi":"Ruoanlaitto","sv":"Matlagning","da":"Madlavning","tr":"Yemek yapma"}', 0, 0),
('it_help', '{"en":"IT help","fi":"Tietotekniikka-apu","sv":"IT-hjälp","da":"IT-hjælp","tr":"Bilgisayar ve teknoloji desteği"}', 0, 0),
('accessibility_assistance', '{"en":"Accessibility assistance","fi":"Avustaminen liikkumisessa ja esteettömyydessä","sv":"Ledsagning och tillgänglighetsstöd","da":"Ledsagelse og hjælp til tilgængelighed","tr":"Erişilebilirlik ve refakat desteği"}', 0, 0),
('gardening', '{"en":"Gardening and park care","fi":"Puutarhatyöt ja puistotalkoot","sv":"Trädgårdsarbete och parkskötsel","da":"Havearbejde og parkpleje","tr":"Bahçe ve park bakımı"}', 0, 0),
('sports_coaching', '{"en":"Leading sports and exercise","fi":"Liikunnan ohjaaminen","sv":"Leda idrott och motion","da":"Træning og idrætsledelse","tr":"Spor ve egzersiz yönetimi"}', 0, 0),
('communications', '{"en":"Communications and social media","fi":"Viestintä ja sosiaalinen media","sv":"Kommunikation och sociala medier","da":"Kommunikation og sociale medier","tr":"İletişim ve sosyal medya"}', 0, 0)
ON CONFLICT (id) DO NOTHING;
