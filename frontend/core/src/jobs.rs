//! The jobs the event stream told of, as the pages read them.

use shared::panel::JobInfo;

/// The latest state of each job seen since the page loaded, in the order first seen. A page
/// sees a handful, so a list does (a hash map was 4 KB more of the web client).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Jobs(Vec<JobInfo>);

impl Jobs {
    /// The latest state seen of job `id`.
    pub fn get(&self, id: i64) -> Option<&JobInfo> {
        self.0.iter().find(|job| job.id == id)
    }

    /// Every job seen.
    pub fn iter(&self) -> impl Iterator<Item = &JobInfo> {
        self.0.iter()
    }

    /// Records `job` as its latest state.
    pub fn insert(&mut self, job: JobInfo) {
        match self.0.iter_mut().find(|seen| seen.id == job.id) {
            Some(seen) => *seen = job,
            None => self.0.push(job),
        }
    }

    /// Records `job` unless a state of it was seen already (the event stream may have told
    /// more of it, even its end, before a request's answer came).
    pub fn insert_new(&mut self, job: JobInfo) {
        if self.get(job.id).is_none() {
            self.0.push(job);
        }
    }

    /// Records `job` (a state fetched while following it) unless the state seen already
    /// ended: a fetch answered after the event stream told the end must not undo it.
    pub fn insert_unless_ended(&mut self, job: JobInfo) {
        match self.0.iter_mut().find(|seen| seen.id == job.id) {
            Some(seen) if seen.state.is_final() => {}
            Some(seen) => *seen = job,
            None => self.0.push(job),
        }
    }
}

#[cfg(test)]
mod tests {
    use shared::panel::{JobInfo, JobState};

    use super::Jobs;

    /// A download job as the event stream sends it, with only the fields it always carries.
    fn job(id: i64, state: JobState) -> JobInfo {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "kind": "download",
            "state": state,
            "done_bytes": 0,
            "total_bytes": 0,
            "started_by": "admin",
            "started_at": "2027-05-04T02:00:00Z",
        }))
        .unwrap()
    }

    #[test]
    fn a_job_seen_again_replaces_its_state_and_an_answer_does_not_undo_news() {
        let mut jobs = Jobs::default();
        jobs.insert(job(1, JobState::Running));
        jobs.insert(job(2, JobState::Running));
        jobs.insert(job(1, JobState::Succeeded));
        // A request's answer that comes after the stream told the end keeps the end.
        jobs.insert_new(job(1, JobState::Running));
        jobs.insert_new(job(3, JobState::Running));
        let states: Vec<_> = jobs.iter().map(|job| (job.id, job.state)).collect();
        assert_eq!(
            states,
            [
                (1, JobState::Succeeded),
                (2, JobState::Running),
                (3, JobState::Running)
            ]
        );
        assert_eq!(jobs.get(2).map(|job| job.state), Some(JobState::Running));
        assert_eq!(jobs.get(4), None);
    }

    #[test]
    fn a_fetched_state_moves_a_job_on_but_never_back_from_its_end() {
        let mut jobs = Jobs::default();
        jobs.insert_unless_ended(job(1, JobState::Running));
        jobs.insert_unless_ended(job(1, JobState::Succeeded));
        // An older answer that comes last keeps the end.
        jobs.insert_unless_ended(job(1, JobState::Running));
        jobs.insert(job(2, JobState::Running));
        jobs.insert_unless_ended(job(2, JobState::Failed));
        let states: Vec<_> = jobs.iter().map(|job| (job.id, job.state)).collect();
        assert_eq!(states, [(1, JobState::Succeeded), (2, JobState::Failed)]);
    }
}
