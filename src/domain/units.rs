//! Unit conversion, in one place: whatever unit the API names (`display_unit`, which
//! follows the member's profile) into the base units the metrics use.

/// Meters per mile.
const MILE: f64 = 1609.344;
const FOOT: f64 = 0.3048;
const YARD: f64 = 0.9144;
/// Grams per pound.
const POUND: f64 = 453.592_37;
/// Joules per kilocalorie (the "calories" Peloton shows are kcal).
pub const JOULES_PER_KCAL: f64 = 4184.0;

fn norm(unit: &str) -> String {
    unit.trim().to_ascii_lowercase()
}

/// A length in `unit` (mi, km, m, ft, yd) in meters.
pub fn length_to_meters(value: f64, unit: &str) -> Option<f64> {
    let factor = match norm(unit).as_str() {
        "mi" | "mile" | "miles" => MILE,
        "km" | "kilometers" | "kilometres" => 1000.0,
        "m" | "meters" | "metres" => 1.0,
        "ft" | "feet" => FOOT,
        "yd" | "yards" => YARD,
        _ => return None,
    };
    Some(value * factor)
}

/// A speed in `unit` (mph, kph, km/h, m/s) in meters per second.
pub fn speed_to_mps(value: f64, unit: &str) -> Option<f64> {
    let factor = match norm(unit).as_str() {
        "mph" | "mi/h" => MILE / 3600.0,
        "kph" | "km/h" | "kmh" => 1000.0 / 3600.0,
        "m/s" | "mps" => 1.0,
        _ => return None,
    };
    Some(value * factor)
}

/// A pace in decimal minutes per distance (min/mi, min/km, min/500m) as meters per second.
/// Pace 0 (standing still) has no finite speed and is absent.
pub fn pace_to_mps(minutes: f64, unit: &str) -> Option<f64> {
    let meters = match norm(unit).as_str() {
        "min/mi" => MILE,
        "min/km" => 1000.0,
        "min/500m" => 500.0,
        _ => return None,
    };
    (minutes > 0.0).then(|| meters / (minutes * 60.0))
}

/// Energy in `unit` (kj, j, kcal, cal meaning kcal) in joules.
pub fn energy_to_joules(value: f64, unit: &str) -> Option<f64> {
    let factor = match norm(unit).as_str() {
        "kj" => 1000.0,
        "j" => 1.0,
        // Peloton's "calories" are kilocalories.
        "kcal" | "cal" | "calories" => JOULES_PER_KCAL,
        _ => return None,
    };
    Some(value * factor)
}

/// A weight in `unit` (lb, kg) in grams, Prometheus' base unit of mass.
pub fn weight_to_grams(value: f64, unit: &str) -> Option<f64> {
    let factor = match norm(unit).as_str() {
        "lb" | "lbs" | "pound" | "pounds" => POUND,
        "kg" | "kgs" | "kilograms" => 1000.0,
        _ => return None,
    };
    Some(value * factor)
}

/// A percentage as a ratio.
pub fn percent_to_ratio(value: f64, unit: &str) -> Option<f64> {
    matches!(norm(unit).as_str(), "%" | "percent" | "").then_some(value / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-6 * b.abs().max(1.0))
    }

    #[test]
    fn lengths() {
        // performance_graph_running_tread_2020.json: 1.22 mi, 5 ft.
        assert!(close(length_to_meters(1.22, "mi"), 1963.39968));
        assert!(close(length_to_meters(5.0, "ft"), 1.524));
        // performance_graph_cycling_metric_units_2020.json: 8.37 km.
        assert!(close(length_to_meters(8.37, "km"), 8370.0));
        // performance_graph_rowing_2022.json: 1023.28 m.
        assert!(close(length_to_meters(1023.28, "m"), 1023.28));
        assert_eq!(length_to_meters(1.0, "furlong"), None);
    }

    #[test]
    fn speeds_and_paces() {
        assert!(close(speed_to_mps(4.1, "mph"), 1.832_864));
        assert!(close(speed_to_mps(25.2, "kph"), 7.0));
        // 14.78 min/mi is 4.06 mph.
        assert!(close(
            pace_to_mps(14.78, "min/mi"),
            1609.344 / (14.78 * 60.0)
        ));
        assert!(close(pace_to_mps(3.26, "min/500m"), 500.0 / (3.26 * 60.0)));
        assert!(close(pace_to_mps(5.0, "min/km"), 1000.0 / 300.0));
        assert_eq!(pace_to_mps(0.0, "min/mi"), None);
    }

    #[test]
    fn energy_and_ratios() {
        assert!(close(energy_to_joules(148.0, "kj"), 148_000.0));
        assert!(close(energy_to_joules(217.0, "kcal"), 907_928.0));
        assert!(close(percent_to_ratio(37.0, "%"), 0.37));
        assert_eq!(percent_to_ratio(37.0, "rpm"), None);
    }

    #[test]
    fn imperial_and_metric_agree() {
        let a = length_to_meters(3.106_855_96, "mi").unwrap();
        let b = length_to_meters(5.0, "km").unwrap();
        assert!((a - b).abs() < 0.01);
    }
}
