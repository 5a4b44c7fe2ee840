"""The exercise catalogue as data: every exercise the generator can prescribe.

Each entry says what it trains, what it needs, how hard it loads the fingers and which declared
injuries rule it out (the contraindication table the safety validator enforces). Doses are the
defaults of the usual climbing-training texts (Hörst, "Training for Climbing"; Anderson &
Anderson, "The Rock Climber's Training Manual"; Lattice Training's published protocols); the
generator shrinks them to fit a session and grows them week by week.
"""

from __future__ import annotations

from typing import Final

from engines.training.exercise import Category as C
from engines.training.exercise import Exercise
from engines.training.vocab import Equipment as Q
from engines.training.vocab import FingerIntensity as F
from engines.training.vocab import Injury as I
from engines.training.vocab import Level as L

WALL = frozenset({Q.GYM, Q.CRAG, Q.HOME_WALL, Q.SYSTEM_BOARD})
INDOOR_WALL = frozenset({Q.GYM, Q.HOME_WALL, Q.SYSTEM_BOARD})
STEEP_WALL = frozenset({Q.GYM, Q.HOME_WALL, Q.SYSTEM_BOARD})
CIRCUIT = frozenset({Q.GYM, Q.CRAG, Q.HOME_WALL})
ROUTES = frozenset({Q.GYM, Q.CRAG})
BAR = frozenset({Q.PULL_UP_BAR, Q.GYM, Q.HANGBOARD})
FINGERS = frozenset({I.FINGER_PULLEY, I.FINGER_JOINT})
#: Contraindications of maximal finger and upper-body loading (hangboard, campus).
MAX_PULL = FINGERS | {I.WRIST, I.ELBOW, I.SHOULDER}
#: Bouldering at the limit: crimps, big moves and falls onto the mats.
LIMIT = FINGERS | {I.SHOULDER, I.KNEE, I.ANKLE}
#: Dynamic, explosive moves: jolts through the shoulders, elbows and neck.
DYNAMIC = frozenset({I.ELBOW, I.NECK})


def _drill(id: str, name: str, how: str, benefit: str, *contra: I, wall: frozenset[Q] = WALL,
           finger: F = F.LOW) -> Exercise:  # fmt: skip
    """A technique drill: a few blocks of easy climbing with one thing to practise."""
    return Exercise(
        id, name, C.TECHNIQUE, how, benefit, wall, finger, frozenset(contra),
        sets=3, reps=4, rest_s=60, rpe=4, intensity="2-3 grades below your max, relaxed",
        set_minutes=5, max_sets=4,
    )  # fmt: skip


EXERCISES: Final[tuple[Exercise, ...]] = (
    Exercise("warm_up", "Warm-up", C.WARM_UP,
             "Pulse raiser, joint circles, then easy climbing or hangs building to the session's "
             "effort.", "prepares tendons and muscles for the loads that follow",
             finger=F.LOW, sets=1, rpe=4, intensity="easy, building up", set_minutes=10),
    # Technique drills: low finger load, one skill each.
    _drill("silent_feet", "Silent feet",
           "Climb easy problems placing each foot precisely and silently, never readjusting it.",
           "precise footwork"),
    _drill("steep_feet_on", "Feet-on steep climbing",
           "On an overhang, climb easy problems keeping both feet on through every move: pull "
           "with the toes, keep the hips in.", "body tension that keeps the feet on",
           I.SHOULDER, I.LOWER_BACK, wall=STEEP_WALL),
    _drill("toe_hook_drill", "Toe and heel hooks",
           "On steep easy problems, toe-hook or heel-hook before each hand move to hold the "
           "body in.", "hooking to keep the feet on", I.KNEE, I.ANKLE, I.HIP, wall=STEEP_WALL),
    _drill("hover_hands", "Hover hands",
           "Hover each hand over its hold for a second, then take the hold once, in the right "
           "place.", "taking each hold right the first time"),
    _drill("route_preview_flow", "Read, then flow",
           "Read the problem or route from the ground, then climb it without stopping.",
           "reading the moves before climbing, so nothing stops the flow"),
    _drill("hip_line_drill", "Hips in one line",
           "Set your hips where the move ends before you go, and move the body in one line.",
           "moving the centre of gravity directly"),
    _drill("downclimbing", "Down-climbing",
           "Climb easy problems up and back down, looking for each foothold on the way down.",
           "balance and foot placement"),
    _drill("straight_arm_shakeout", "Straight-arm rests",
           "Stop at each good hold, hang on a straight arm with the hips under it and shake out "
           "the other arm.", "resting on the skeleton, not the biceps"),
    _drill("flagging_drill", "Flagging",
           "Climb easy traverses flagging on every move, inside and outside, and match before "
           "long sideways reaches.", "balance over the holds (no barn door)"),
    _drill("drop_knee_drill", "Drop knees",
           "On easy steep problems, drop the knee on each move to bring the hip to the wall.",
           "hips close to the wall", I.KNEE, I.HIP),
    _drill("hip_turn_in", "Hip turn-ins",
           "Turn the hip of the reaching side into the wall on each move, without a drop knee.",
           "hips close to the wall"),
    _drill("intermediate_feet", "Small steps",
           "Use an intermediate foothold before each long reach so you reach with the body "
           "high, not stretched out.", "shorter reaches from better feet"),
    # Climbing volume and endurance.
    Exercise("volume_bouldering", "Volume bouldering", C.VOLUME,
             "Many problems 2-3 grades below your max, flowing, resting as long as needed.",
             "mileage: movement skill and a base of finger conditioning", WALL, F.MODERATE,
             frozenset(FINGERS | {I.ANKLE}), sets=4, reps=4, rest_s=120, rpe=6,
             intensity="2-3 grades below your max", set_minutes=6, max_sets=6),
    Exercise("arc_traverse", "ARC climbing", C.ENDURANCE,
             "Climb continuously on big holds (traverse or laps) at a light pump, open hand.",
             "aerobic capacity of the forearms", CIRCUIT, F.LOW, sets=2, reps=1, work_s=1200,
             rest_s=300, rpe=5, intensity="light pump, able to talk", set_minutes=25),
    Exercise("route_volume", "Route mileage", C.ENDURANCE,
             "Routes 2-3 grades below your max, one after another with short rests.",
             "endurance and movement on long sequences", ROUTES, F.LOW, sets=4, reps=1,
             rest_s=180, rpe=6, intensity="2-3 grades below your max", set_minutes=9,
             max_sets=6),
    # Finger strength.
    Exercise("max_hangs", "Max hangs", C.FINGER_STRENGTH,
             "10 s hangs on a 20 mm edge, half crimp, loaded so ~3 s are left in reserve.",
             "maximal finger strength", frozenset({Q.HANGBOARD}), F.HIGH, MAX_PULL, sets=5,
             reps=1, work_s=10, rest_s=180, rpe=8, intensity="10 s with ~3 s in reserve",
             set_minutes=3.5, min_sets=3, max_sets=6, min_level=L.INTERMEDIATE, min_age=18),
    Exercise("repeaters", "Repeaters", C.FINGER_STRENGTH,
             "7 s on, 3 s off, 6 times on a 20 mm edge; 3 min between sets.",
             "finger strength-endurance", frozenset({Q.HANGBOARD}), F.MODERATE,
             frozenset(FINGERS | {I.WRIST, I.ELBOW}), sets=4, reps=6, work_s=7, rest_s=180,
             rpe=7, intensity="bodyweight, last rep hard", set_minutes=4, min_sets=2,
             max_sets=5, min_level=L.INTERMEDIATE, min_age=16),
    Exercise("limit_bouldering", "Limit bouldering", C.FINGER_STRENGTH,
             "Problems at your max, 3 attempts each with 3 min rest between attempts.",
             "recruitment and finger strength on real holds", WALL, F.HIGH, LIMIT, sets=4,
             reps=3, rest_s=180, rpe=9, intensity="your hardest problems", set_minutes=9,
             min_sets=2, max_sets=5, min_level=L.INTERMEDIATE),
    Exercise("board_limit_bouldering", "Board limit bouldering", C.FINGER_STRENGTH,
             "Board problems at your max, 3 attempts each with 3 min rest.",
             "finger strength on standard holds", frozenset({Q.SYSTEM_BOARD}), F.HIGH,
             LIMIT | {I.ELBOW}, sets=4, reps=3, rest_s=180, rpe=9,
             intensity="your hardest board problems", set_minutes=9, min_sets=2, max_sets=5,
             min_level=L.INTERMEDIATE),
    # Power.
    Exercise("campus_ladders", "Campus ladders", C.POWER,
             "Ladder up the rungs without feet (1-2-3, then 1-3-5 as you can); 3 min rest.",
             "contact strength and explosive pulling", frozenset({Q.CAMPUS_BOARD}), F.HIGH,
             MAX_PULL | DYNAMIC, sets=5, reps=1, rest_s=180, rpe=9,
             intensity="maximal, stop before form breaks", set_minutes=3.5, min_sets=3,
             max_sets=6, min_level=L.ADVANCED, min_age=18),
    Exercise("campus_feet_on", "Feet-on campus", C.POWER,
             "Campus moves with a foot on a foothold, reaching as far as you can with control.",
             "explosive pulling with part of the load", frozenset({Q.CAMPUS_BOARD}), F.HIGH,
             MAX_PULL | DYNAMIC, sets=5, reps=4, rest_s=150, rpe=8,
             intensity="fast, controlled catches",
             set_minutes=3, min_sets=3, max_sets=6, min_level=L.INTERMEDIATE, min_age=18),
    Exercise("board_power_problems", "Board power problems", C.POWER,
             "Short board problems of 2-4 big moves near your max; 3 min rest.",
             "power on standard holds", frozenset({Q.SYSTEM_BOARD}), F.HIGH,
             LIMIT | DYNAMIC, sets=5, reps=3, rest_s=180, rpe=9,
             intensity="explosive, near max", set_minutes=8, min_sets=2, max_sets=6,
             min_level=L.INTERMEDIATE),
    Exercise("power_bouldering", "Power bouldering", C.POWER,
             "Short dynamic problems of 3-5 hard moves near your max; full 3 min rests.",
             "explosive movement", WALL, F.HIGH, LIMIT | DYNAMIC, sets=4, reps=3, rest_s=180,
             rpe=9,
             intensity="explosive, near max", set_minutes=8, min_sets=2, max_sets=5,
             min_level=L.INTERMEDIATE),
    Exercise("explosive_pull_ups", "Explosive pull-ups", C.STRENGTH,
             "Pull as fast as you can to chest height, lower slowly; stop when speed drops.",
             "pulling power", BAR, F.NONE, frozenset({I.ELBOW, I.SHOULDER}), sets=4, reps=4,
             rest_s=150, rpe=8, intensity="maximal speed", set_minutes=3,
             min_level=L.INTERMEDIATE),
    # Power endurance.
    Exercise("four_by_fours", "4x4s", C.POWER_ENDURANCE,
             "Four problems 2-3 grades below your max back to back, 4 rounds, 4 min between.",
             "power endurance", INDOOR_WALL, F.MODERATE, frozenset(FINGERS | {I.SHOULDER}),
             sets=4, reps=4, rest_s=240, rpe=8, intensity="pumped by the last round",
             set_minutes=8, min_sets=2, max_sets=5, min_level=L.INTERMEDIATE),
    Exercise("route_intervals", "Route intervals", C.POWER_ENDURANCE,
             "Routes 1-2 grades below your max, resting as long as you climbed, 3-4 laps.",
             "power endurance on routes", ROUTES, F.MODERATE, FINGERS, sets=4, reps=1,
             rest_s=240, rpe=8, intensity="1-2 grades below your max", set_minutes=9,
             min_sets=2, max_sets=5, min_level=L.INTERMEDIATE),
    # Pulling strength, antagonists, core, legs, mobility.
    Exercise("pull_ups", "Pull-ups", C.STRENGTH,
             "Full range, controlled; 2 reps in reserve.", "pulling strength", BAR, F.NONE,
             frozenset({I.ELBOW, I.SHOULDER}), sets=3, reps=6, rest_s=120, rpe=7,
             intensity="2 reps in reserve", set_minutes=2.5),
    Exercise("lock_offs", "Lock-offs", C.STRENGTH,
             "Hold 90 and 120 degrees for 5 s each on a bar, 3 reps.", "lock-off strength",
             BAR, F.NONE, frozenset({I.ELBOW, I.SHOULDER}), sets=3, reps=3, work_s=5,
             rest_s=120, rpe=7, intensity="bodyweight, steady", set_minutes=2.5,
             min_level=L.INTERMEDIATE),
    Exercise("scapular_pull_ups", "Scapular pull-ups", C.STRENGTH,
             "Hang on straight arms, pull the shoulder blades down and back, hold 2 s.",
             "shoulder-blade control", BAR, F.NONE, frozenset({I.SHOULDER}), sets=3, reps=8,
             rest_s=60, rpe=5, intensity="slow and controlled", set_minutes=2),
    Exercise("band_rows", "Band rows", C.STRENGTH,
             "Row a resistance band to the ribs, squeezing the shoulder blades.",
             "pulling strength without hanging", frozenset({Q.RESISTANCE_BANDS, Q.GYM}),
             F.NONE, frozenset({I.ELBOW}), sets=3, reps=12, rest_s=60, rpe=6,
             intensity="2 reps in reserve", set_minutes=1.5),
    Exercise("push_ups", "Push-ups", C.ANTAGONIST,
             "Full range, body straight.", "antagonist pushing strength for the shoulders",
             finger=F.NONE, contraindications=frozenset({I.WRIST, I.SHOULDER}), sets=3,
             reps=12, rest_s=60, rpe=6, intensity="2 reps in reserve", set_minutes=1.5),
    Exercise("shoulder_external_rotation", "Shoulder external rotation", C.ANTAGONIST,
             "Elbow at the side, rotate the forearm outwards against a band or light weight.",
             "rotator-cuff strength", frozenset({Q.RESISTANCE_BANDS, Q.WEIGHTS, Q.GYM}),
             sets=3, reps=15, rest_s=45, rpe=5, intensity="light", set_minutes=1.5),
    Exercise("wrist_extensors", "Wrist extensor curls", C.ANTAGONIST,
             "Forearm on a bench, raise and slowly lower a light weight with the back of the "
             "hand up.", "forearm balance for the elbows",
             frozenset({Q.WEIGHTS, Q.RESISTANCE_BANDS, Q.GYM}), F.NONE,
             frozenset({I.WRIST}), sets=3, reps=15, rest_s=45, rpe=5,
             intensity="light, slow lowering", set_minutes=1.5),
    Exercise("front_lever_progression", "Front-lever progression", C.CORE,
             "Tuck or one-leg front lever holds on a bar.", "body tension on steep ground", BAR,
             F.NONE, frozenset({I.LOWER_BACK, I.SHOULDER, I.ELBOW}), sets=4, reps=1,
             work_s=8, rest_s=90, rpe=8, intensity="hardest position held 8 s",
             set_minutes=2, min_level=L.INTERMEDIATE),
    Exercise("hanging_leg_raises", "Hanging leg raises", C.CORE,
             "Hang from a bar and raise the feet to the bar, slowly.",
             "core tension for keeping feet on", BAR, F.NONE,
             frozenset({I.LOWER_BACK, I.SHOULDER}), sets=3, reps=8, rest_s=90, rpe=7,
             intensity="controlled", set_minutes=2),
    Exercise("hollow_body", "Hollow-body hold", C.CORE,
             "On the back, lower back pressed down, arms and legs off the floor.",
             "core tension", finger=F.NONE, contraindications=frozenset({I.LOWER_BACK}),
             sets=3, reps=1, work_s=30, rest_s=60, rpe=6, intensity="hold with a flat back",
             set_minutes=1.5),
    Exercise("dead_bug", "Dead bug", C.CORE,
             "On the back, lower the opposite arm and leg slowly, lower back pressed down.",
             "core control without loading the spine", sets=3, reps=10, rest_s=45, rpe=5,
             intensity="slow", set_minutes=1.5),
    Exercise("plank", "Front plank", C.CORE,
             "Forearms and toes, body in one line.", "trunk stability", sets=3, reps=1,
             work_s=40, rest_s=45, rpe=6, intensity="steady breathing", set_minutes=1.5),
    Exercise("split_squats", "Split squats", C.STRENGTH,
             "Rear foot on a step, lower the back knee towards the floor, drive up.",
             "leg strength for high steps", contraindications=frozenset({I.KNEE, I.ANKLE, I.HIP}),
             sets=3, reps=10, rest_s=60, rpe=6, intensity="bodyweight", set_minutes=2),
    Exercise("hip_mobility", "Hip mobility", C.MOBILITY,
             "Frog stretch, deep squat hold and high-step drills.",
             "hip mobility for high feet and turning in", sets=1, reps=1, rest_s=0, rpe=3,
             intensity="gentle", set_minutes=8),
    Exercise("shoulder_mobility", "Shoulder mobility", C.MOBILITY,
             "Arm circles, doorway chest stretch, thoracic rotations.",
             "shoulder range and posture", sets=1, reps=1, rest_s=0, rpe=3,
             intensity="gentle", set_minutes=6),
    # Assessments for the retest week.
    Exercise("test_max_hang", "Test: max hang", C.ASSESSMENT,
             "Heaviest 10 s hang on a 20 mm edge, 3 attempts with 3 min rest; note the load.",
             "measures finger strength", frozenset({Q.HANGBOARD}), F.HIGH, MAX_PULL, sets=3,
             reps=1, work_s=10, rest_s=180, rpe=10, intensity="maximal", set_minutes=3.5,
             min_level=L.INTERMEDIATE, min_age=18),
    Exercise("test_max_boulder", "Test: hardest boulder", C.ASSESSMENT,
             "Work up a grade pyramid for 45 min; note the hardest problem sent.",
             "measures bouldering level", WALL, F.HIGH, LIMIT, sets=4, reps=3, rest_s=180,
             rpe=10, intensity="maximal", set_minutes=9, min_sets=2, max_sets=5,
             min_level=L.INTERMEDIATE),
    Exercise("test_pull_ups", "Test: max pull-ups", C.ASSESSMENT,
             "Strict pull-ups in one set to failure; note the count.", "measures pulling "
             "strength", BAR, F.NONE, frozenset({I.ELBOW, I.SHOULDER}), sets=1, reps=1,
             rest_s=0, rpe=10, intensity="maximal", set_minutes=4),
    Exercise("test_arc", "Test: continuous climbing", C.ASSESSMENT,
             "Climb an easy circuit without stopping until pumped; note the minutes.",
             "measures endurance", CIRCUIT, F.LOW, sets=1, reps=1, rest_s=0, rpe=8,
             intensity="steady until pumped", set_minutes=25),
    Exercise("test_recorded_climb", "Test: filmed climb", C.ASSESSMENT,
             "Film one climb 2 grades below your max that you know, and upload it for analysis.",
             "measures technique: movement efficiency and advice against your history", WALL,
             F.LOW, sets=1, reps=1, rest_s=0, rpe=6, intensity="your normal climbing",
             set_minutes=10),
    Exercise("test_plank", "Test: plank hold", C.ASSESSMENT,
             "Longest front plank with the body in one line; note the seconds.",
             "measures trunk endurance", sets=1, reps=1, rest_s=0, rpe=9,
             intensity="maximal", set_minutes=4),
    Exercise("test_push_ups", "Test: max push-ups", C.ASSESSMENT,
             "Push-ups in one set to failure, full range; note the count.",
             "measures pushing strength", contraindications=frozenset({I.WRIST, I.SHOULDER}),
             sets=1, reps=1, rest_s=0, rpe=9, intensity="maximal", set_minutes=4),
)  # fmt: skip

CATALOGUE: Final[dict[str, Exercise]] = {exercise.id: exercise for exercise in EXERCISES}
if len(CATALOGUE) != len(EXERCISES):  # pragma: no cover - guards edits to the data above
    raise ValueError("duplicate exercise id in the catalogue")
