//! The OCR engine behind a small trait: Tesseract 5 (Debian's `tesseract-ocr`) run as a
//! process, one per photo. A process keeps a crash or a hang of the engine out of the server
//! (the timeout kills it), and needs no C bindings to build. Another engine (or a test's
//! fake) implements [`Ocr`].

use async_trait::async_trait;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// One line of text as the engine read it.
#[derive(Clone, Debug, PartialEq)]
pub struct OcrLine {
    pub text: String,
    /// 0–100: the mean of the engine's confidence in the line's words.
    pub confidence: f32,
}

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error("the OCR engine could not be started ({0}); is tesseract-ocr installed?")]
    Unavailable(String),
    #[error("the OCR engine failed: {0}")]
    Failed(String),
}

#[async_trait]
pub trait Ocr: Send + Sync {
    /// Reads the text of a prepared image (PNG), top to bottom.
    async fn read(&self, png: Vec<u8>) -> Result<Vec<OcrLine>, OcrError>;
}

/// Tesseract's command-line program.
pub struct Tesseract {
    pub command: String,
}

#[async_trait]
impl Ocr for Tesseract {
    async fn read(&self, png: Vec<u8>) -> Result<Vec<OcrLine>, OcrError> {
        let mut child = Command::new(&self.command)
            // psm 6: one block of text, which a list is; tsv: words with their confidence.
            .args(["stdin", "stdout", "-l", "eng", "--psm", "6", "tsv"])
            // One thread per process: the reader runs one process per core already.
            .env("OMP_THREAD_LIMIT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Dropped on timeout or shutdown: the process goes with it.
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| OcrError::Unavailable(e.to_string()))?;
        let mut stdin = child.stdin.take().ok_or_else(|| OcrError::Failed("no stdin".into()))?;
        let write = async move {
            stdin.write_all(&png).await?;
            stdin.shutdown().await
        };
        let (written, output) = tokio::join!(write, child.wait_with_output());
        let output = output.map_err(|e| OcrError::Failed(e.to_string()))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(OcrError::Failed(format!("{} {}", output.status, stderr.trim())));
        }
        written.map_err(|e| OcrError::Failed(e.to_string()))?;
        Ok(parse_tsv(&String::from_utf8_lossy(&output.stdout)))
    }
}

/// Groups Tesseract's TSV word rows (level 5) into lines, in reading order. Words without a
/// letter or digit (specks read as punctuation) are dropped.
pub fn parse_tsv(tsv: &str) -> Vec<OcrLine> {
    let mut lines: Vec<((u32, u32, u32, u32), Vec<(String, f32)>)> = Vec::new();
    for row in tsv.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        if cols.len() < 12 || cols[0] != "5" {
            continue;
        }
        let key = |i: usize| cols[i].parse::<u32>().unwrap_or(0);
        let id = (key(1), key(2), key(3), key(4));
        let confidence: f32 = cols[10].parse().unwrap_or(-1.0);
        let word = cols[11].trim();
        if confidence < 0.0 || !word.chars().any(char::is_alphanumeric) {
            continue;
        }
        match lines.last_mut() {
            Some((last, words)) if *last == id => words.push((word.to_owned(), confidence)),
            _ => lines.push((id, vec![(word.to_owned(), confidence)])),
        }
    }
    lines
        .into_iter()
        .map(|(_, words)| OcrLine {
            text: words.iter().map(|(w, _)| w.as_str()).collect::<Vec<_>>().join(" "),
            confidence: words.iter().map(|(_, c)| c).sum::<f32>() / words.len() as f32,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_grouped_into_lines_with_their_mean_confidence() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
            1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n\
            4\t1\t1\t1\t1\t0\t0\t0\t100\t10\t-1\t\n\
            5\t1\t1\t1\t1\t1\t0\t0\t10\t10\t90\t2\n\
            5\t1\t1\t1\t1\t2\t0\t0\t10\t10\t70\tcroissants\n\
            5\t1\t1\t1\t2\t1\t0\t0\t10\t10\t95\tmilk\n\
            5\t1\t1\t1\t2\t2\t0\t0\t10\t10\t20\t~\n\
            5\t1\t1\t1\t3\t1\t0\t0\t10\t10\t10\t.\n";
        assert_eq!(
            parse_tsv(tsv),
            vec![
                OcrLine { text: "2 croissants".into(), confidence: 80.0 },
                OcrLine { text: "milk".into(), confidence: 95.0 },
            ]
        );
    }
}
