"""Chat marts: the tables ``analytics.marts.build_chat_marts`` computes from a month's staged
messages, refunds, orders and roster (definitions in docs/marts.md).

Every mart carries ``month``. Labels are the Chinese names the report, payroll.xlsx and the
notebooks show (生意参谋/赤兔 wording for metrics); ids and internal indices have none.
"""

from __future__ import annotations

from .table import Table, computed


def _mart(name: str, cols: str, key: tuple[str, ...], doc: str, open_cols: tuple[tuple[str, str], ...] = ()) -> Table:
    return computed(name, cols, key, doc, "mart", open_cols)


# agent_day_metrics and agent_month_metrics share these metric columns
_METRICS = (
    "conversations:int:会话数, consult_buyers:int:咨询人数, received_buyers:int:接待人数, unreplied_buyers:int:未回复人数,"
    " reply_rate:float:回复率, questions:int:问题数, answered_questions:int:已回复问题,"
    " first_response_mean_s:float:平均首次响应时长, first_response_median_s:float:首次响应时长(中位),"
    " avg_response_s:float:平均响应时长, p90_response_s:float:90%响应时长, response_3min_rate:float:3分钟回复率,"
    " slow_responses:int:慢响应, ask_answer_ratio:float:答问比, long_conversations:int:长接待, transfers_in:int:转入,"
    " transfers_out:int:转出, agent_chars:int:客服字数, max_concurrent:int:最大同时接待, buyer_msgs:int:买家消息数,"
    " agent_msgs:int:客服消息数, answered_within_fast:int:快速回复数"
)

CONVERSATIONS = _mart(
    "conversations",
    "month::月份, conversation_id:id:会话编号, shop::店铺, agent_account::客服账号, buyer::买家, day:date:日期,"
    " start_at:datetime:开始时间, end_at:datetime:结束时间, duration_s:int:时长, service_duration_s:float:服务时长,"
    " is_long:bool:长接待, has_dialogue:bool:有对话, buyer_msgs:int:买家消息数, agent_msgs:int:客服消息数,"
    " other_rows:int:其他记录, questions:int:问题数, answered_questions:int:已回复问题, unanswered_questions:int:未回复问题,"
    " first_response_s:float:首次响应时长, transferred_in:bool:转入, carried_in:bool:跨日延续, transferred_out:bool:转出,"
    " escalated:bool:投诉威胁, escalation_terms::威胁用语, escalation_outcome::威胁结果, last_speaker::最后发言,"
    " is_after_sales:bool:售后会话, refund_reason::退款原因, predicted_reason::预测原因, confidence:float:置信度",
    ("conversation_id",),
    "One row per conversation (a thread split by idle gaps).",
)
QUESTIONS = _mart(
    "questions",
    "month::月份, question_id:id:问题编号, conversation_id:id:会话编号, shop::店铺, agent_account::客服账号, buyer::买家,"
    " day:date:日期, asked_at:datetime:提问时间, last_buyer_at:datetime:买家最后消息时间, buyer_msgs:int:买家消息数,"
    " question_text::问题, is_first_in_conversation:bool:首问, carried_in:bool:跨日延续, transferred_from::转出客服,"
    " status::状态, transferred_to::转入客服, answered_at:datetime:回复时间, response_s:float:响应时长,"
    " wall_response_s:float:自然响应时长, is_slow:bool:慢响应, within_3min:bool:3分钟内回复, answer_text::回复,"
    " ref_msg_idx:int, source_file::文件, source_sheet::工作表, source_row:int:行, answer_msg_idx:int,"
    " answer_source_file::回复文件, answer_source_sheet::回复工作表, answer_source_row:int:回复行",
    ("question_id",),
    "One row per buyer question (consecutive buyer messages) and its answer.",
)
AGENT_DAY_METRICS = _mart(
    "agent_day_metrics",
    "month::月份, agent_account::客服账号, day:date:日期, " + _METRICS,
    ("month", "agent_account", "day"),
    "Per agent and day: the 生意参谋-style service metrics.",
)
AGENT_MONTH_METRICS = _mart(
    "agent_month_metrics",
    "month::月份, agent_account::客服账号, " + _METRICS + ","
    " conversations_with_reply:int:有回复会话, polite_openings:int:礼貌开场, polite_opening_rate:float:礼貌开场率,"
    " forbidden_hits:int:禁用语, knowledge_gap_replies:int:知识盲区回复, escalation_conversations:int:投诉威胁会话,"
    " buyer_negative_turns:int:买家负面, praise_candidates:int:表扬候选, product_questions:int:商品问题,"
    " product_gap_questions:int:商品知识盲区, name::姓名, role::岗位, in_roster:bool:在名单",
    ("month", "agent_account"),
    "Per agent and month: service metrics and text indicators (what scoring reads). A shop without raw"
    " chats gets them from the 生意参谋/赤兔 statistics (`analytics.agent_stats`): the columns those exports"
    " lack are null and `metrics_source` (指标来源, e.g. `agent_stats:sycm`) names the export.",
    ((r"^metrics_source$", "str"),),
)
TEXT_HITS = _mart(
    "text_hits",
    "month::月份, shop::店铺, agent_account::客服账号, buyer::买家, conversation_id:id:会话编号, msg_idx:int,"
    " sender_role::发送方, sent_at:datetime:发送时间, lexicon::词库, lexicon_version::词库版本, term::命中词, text::消息,"
    " source_file::文件, source_sheet::工作表, source_row:int:行",
    ("conversation_id", "msg_idx", "lexicon", "term"),
    "One row per lexicon term found in a message.",
)
CONVERSATION_REASONS = _mart(
    "conversation_reasons",
    "month::月份, conversation_id:id:会话编号, shop::店铺, agent_account::客服账号, buyer::买家, start_at:datetime:开始时间,"
    " is_after_sales:bool:售后会话, refund_id:id:退款编号, link_method::关联方式, label::退款原因(标注), split::数据集,"
    " heldout_predicted::留出预测, predicted_reason::预测原因, confidence:float:置信度",
    ("conversation_id",),
    "After-sales conversations with the refund reason (linked refund or classifier).",
)
PRODUCT_QUESTIONS = _mart(
    "product_questions",
    "question_id:id:问题编号, item::商品/活动, item_kind::类别, msg_idx:int, terms::命中词, month::月份,"
    " agent_account::客服账号, buyer::买家, conversation_id:id:会话编号, status::状态, answer_msg_idx:int,"
    " asked_at:datetime:提问时间, gap_terms::盲区用语, knowledge_gap:bool:知识盲区, gap_reason::盲区原因",
    ("question_id", "item"),
    "Questions naming a product or promotion of the catalogue, and whether the answer showed a knowledge gap.",
)
TOPICS = _mart(
    "topics",
    "month::月份, topic:int:主题, rank:int:排名, term::关键词, weight:float:权重, docs:int:会话数",
    ("month", "topic", "rank"),
    "Top terms of each NMF topic over the month's buyer texts.",
)
EVIDENCE = _mart(
    "evidence",
    "evidence_id:id:证据编号, month::月份, agent_account::客服账号, kind::类型, buyer::买家, at:datetime:时间,"
    " excerpt::摘录, detail::说明, source_file::文件, source_row:int:行, source_sheet::工作表, conversation_id:id:会话编号",
    ("evidence_id",),
    "One row per cited fact (a slow answer, a forbidden word ...): what points cite.",
)
LEXICON_VERSIONS = _mart(
    "lexicon_versions",
    "lexicon::词库, version::版本, applies_to::适用, provenance::来源, terms:int:词条数, month::月份",
    ("month", "lexicon"),
    "The lexicons the month's text analysis used.",
)

MARTS: dict[str, Table] = {
    t.name: t
    for t in (
        CONVERSATIONS,
        QUESTIONS,
        AGENT_DAY_METRICS,
        AGENT_MONTH_METRICS,
        TEXT_HITS,
        CONVERSATION_REASONS,
        PRODUCT_QUESTIONS,
        TOPICS,
        EVIDENCE,
        LEXICON_VERSIONS,
    )
}
